// Starts Swagger UI on /docs. A file rather than an inline script, so that the page's
// Content-Security-Policy can keep scripts to this site's own files.
"use strict";

const element = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: element.dataset.specUrl,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  // The names a generated client gives its functions.
  displayOperationId: true,
  // No badge from an outside validator: the page works offline and talks only to this site.
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
