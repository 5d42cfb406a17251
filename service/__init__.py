"""Handpost: schedules hand-tailored social media posts, one version per network."""
