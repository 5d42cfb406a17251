"""The browser front end: static HTML, CSS and ES modules that call the REST API."""
