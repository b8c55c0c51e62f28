"""The web app: server-rendered NHS.UK pages and the JSON API under ``/api/v1``."""
