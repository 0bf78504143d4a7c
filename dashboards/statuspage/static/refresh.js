// Reloads the page every data-refresh seconds while it is visible. Optional:
// without JavaScript the page still works, and ?refresh=N refreshes it with
// a meta tag instead.
(function () {
  var s = Number(document.body.dataset.refresh || 0);
  if (!s) return;
  setInterval(function () {
    if (document.visibilityState === "visible") location.reload();
  }, s * 1000);
})();
