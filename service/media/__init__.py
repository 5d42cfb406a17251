"""Media: images and videos a user uploads (resumably) and attaches to posts."""
