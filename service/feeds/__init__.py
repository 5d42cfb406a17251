"""The private calendar feed: a person's schedule in any calendar application."""
