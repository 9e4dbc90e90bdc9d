// Small progressive enhancements. No inline scripts anywhere (Content-Security-Policy).
document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  const message = status === 403 ? "You may not do that here." : "Something went wrong; nothing was saved. Reload and try again.";
  window.alert(message);
});

// Marks that scripts run, so buttons only needed without JavaScript ("Set", "Filter") hide.
document.documentElement.classList.add("js");

// "Cancel" on an inline add form: empty the slot the form was loaded into.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-clear]");
  if (!button) return;
  const target = document.querySelector(button.dataset.clear);
  if (target) target.replaceChildren();
});

// "Print" buttons (handoff page, signed record): the print stylesheet does the rest.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});

// A printed page shows everything: open the folded lists (blockers, attention items) first.
window.addEventListener("beforeprint", () => {
  document.querySelectorAll("details.more-items").forEach((details) => { details.open = true; });
});

// Messages stay pinned at the top of the page (a save lands on a section further down): each
// gets a button to put it away.
document.querySelectorAll(".messages .message").forEach((message) => {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "dismiss";
  button.setAttribute("aria-label", "Dismiss this message");
  button.textContent = "×";
  button.addEventListener("click", () => message.remove());
  message.append(button);
});

// The top bar's Menu button (shown by the stylesheet on narrow screens only) folds the links
// away; Escape closes the open menu and puts focus back on the button.
const menuButton = document.querySelector(".menu-button");
if (menuButton) {
  const setOpen = (open) => menuButton.setAttribute("aria-expanded", String(open));
  menuButton.addEventListener("click", () => setOpen(menuButton.getAttribute("aria-expanded") !== "true"));
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || menuButton.getAttribute("aria-expanded") !== "true") return;
    setOpen(false);
    menuButton.focus();
  });
}
