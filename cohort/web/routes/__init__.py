"""One module per resource: ``router`` holds its pages, ``api`` its ``/api/v1`` endpoints."""
