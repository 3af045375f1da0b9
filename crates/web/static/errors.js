// Says so near the top of the page when a request htmx sent fails: the server answered with an
// error that is not drawn into the page (a 5xx, a refusal), or the answer never came (the
// server or the network is down). Without it the page would look as if nothing happened. The
// next request that succeeds takes the message away again.
(function () {
  "use strict";
  var ID = "request-error";
  function show(text) {
    var flash = document.getElementById("flash");
    if (!flash) return;
    var alert = document.getElementById(ID);
    if (!alert) {
      alert = document.createElement("p");
      alert.id = ID;
      alert.className = "alert request-error";
      alert.setAttribute("role", "alert");
      flash.insertBefore(alert, flash.firstChild);
    }
    alert.textContent = text;
  }
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var reference = xhr.getResponseHeader("x-request-id");
    var text = xhr.status >= 500
      ? "Scoreline could not do this just now (error " + xhr.status + "); your last change may not be saved. Try again in a moment, or reload the page."
      : "This was refused (error " + xhr.status + "). Reload the page to see how things stand.";
    show(text + (reference ? " Reference: " + reference + "." : ""));
  });
  document.addEventListener("htmx:sendError", function () {
    show("Scoreline could not be reached; your last change may not be saved. Check the connection, then try again or reload the page.");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!event.detail.successful) return;
    var alert = document.getElementById(ID);
    if (alert) alert.remove();
  });
})();
