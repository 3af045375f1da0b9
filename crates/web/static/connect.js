// A form that offers several ways to authenticate keeps only the chosen way's fields active:
// `[data-auth-method]` parts are enabled (fieldsets) or shown (the rest) when their method is
// the checked `auth_method`. Without JavaScript every field stays usable and the server
// ignores the ones the method does not use.
(function () {
  "use strict";
  function follow(form) {
    var checked = form.querySelector("input[name=auth_method]:checked");
    if (!checked) return;
    form.querySelectorAll("[data-auth-method]").forEach(function (part) {
      var active = part.getAttribute("data-auth-method") === checked.value;
      if (part.tagName === "FIELDSET") part.disabled = !active;
      else part.hidden = !active;
    });
  }
  function followAll() {
    document.querySelectorAll("form").forEach(function (form) {
      if (form.querySelector("[data-auth-method]")) follow(form);
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.name === "auth_method" && event.target.form) follow(event.target.form);
  });
  document.addEventListener("DOMContentLoaded", followAll);
  document.addEventListener("htmx:afterSettle", followAll);
})();
