// Starts Swagger UI from a file, so the Content-Security-Policy needs no inline script.
const root = document.getElementById("swagger-ui");
if (window.SwaggerUIBundle && root) {
  window.SwaggerUIBundle({ url: root.dataset.openapiUrl, domNode: root });
}
