"""YouTube's own parts: a video post's fields, its resumable upload's progress, the daily quota."""
