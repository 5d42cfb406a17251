"""The API's documentation: Swagger UI and ReDoc served offline, and the OpenAPI contract."""
