// Small progressive enhancements. No inline scripts anywhere (Content-Security-Policy).
document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  const message = status === 403 ? "You may not do that here." : "Something went wrong; nothing was saved. Reload and try again.";
  window.alert(message);
});

// "Print" buttons (handoff page, signed record): the print stylesheet does the rest.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
