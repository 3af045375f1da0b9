// Shows the date of every <time datetime> in the reader's own time zone; the page already
// says it in UTC for readers without JavaScript. Runs again after htmx swaps part of a page.
(function () {
  "use strict";
  var format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  function localise(root) {
    root.querySelectorAll("time[datetime] .when-date").forEach(function (date) {
      var at = new Date(date.parentElement.getAttribute("datetime"));
      if (!isNaN(at)) date.textContent = "(" + format.format(at) + ")";
    });
  }
  document.addEventListener("DOMContentLoaded", function () { localise(document); });
  document.addEventListener("htmx:afterSettle", function (event) { localise(event.target); });
})();
