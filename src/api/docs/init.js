/* global window, SwaggerUIBundle */
// Starts Swagger UI on /openapi.json. A file of its own (not inline) so the page's CSP can stay 'self'.
window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  // BaseLayout: no top bar with a URL box, so the page only ever shows this service's own document.
  layout: 'BaseLayout',
  presets: [SwaggerUIBundle.presets.apis],
  deepLinking: true,
  // The default sends the document to validator.swagger.io and shows its badge: nothing leaves the page.
  validatorUrl: null,
  displayRequestDuration: true,
  docExpansion: 'list',
  defaultModelsExpandDepth: 0,
});
