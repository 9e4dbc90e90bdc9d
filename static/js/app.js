// Small progressive enhancements. No inline scripts anywhere (Content-Security-Policy).
document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  const message = status === 403 ? "You may not do that here." : "Something went wrong; nothing was saved. Reload and try again.";
  window.alert(message);
});

// Marks that scripts run, so buttons only needed without JavaScript ("Set", "Filter") hide.
document.documentElement.classList.add("js");

// After Back or Forward, htmx puts back the page it kept for that URL: its rows and the notice
// of what they are filtered by, but the filter bar as the page was first served (a select's
// chosen value is not part of the page's HTML). Set the bar from the URL, as the server does.
function filtersFromUrl() {
  const query = new URLSearchParams(window.location.search);
  document.querySelectorAll("form.filters").forEach((form) => {
    form.querySelectorAll("select[name], input[type=search][name]").forEach((control) => {
      const value = query.get(control.name) || "";
      if (control.tagName === "INPUT") {
        control.value = value;
        return;
      }
      // A value the list does not offer was ignored by the server: the select shows its first
      // option ("All", "Anyone") then too.
      const wanted = value.trim().toLowerCase();
      const option = [...control.options].find((o) => o.value.toLowerCase() === wanted);
      control.value = option ? option.value : "";
    });
  });
}
document.addEventListener("htmx:historyRestore", filtersFromUrl);

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

// A live count beside every bounded textarea (data-counter; the server sets maxlength and
// refuses longer text beside the field). Runs on the page and on every htmx swap.
function counterText(area) {
  const limit = Number(area.getAttribute("maxlength"));
  return `${area.value.length.toLocaleString("en-GB")} of ${limit.toLocaleString("en-GB")} characters`;
}
function addCounters(root) {
  root.querySelectorAll("textarea[data-counter][maxlength]").forEach((area) => {
    if (area.dataset.counterReady) return;
    area.dataset.counterReady = "1";
    const counter = document.createElement("p");
    counter.className = "help counter";
    counter.id = `${area.id}_counter`;
    counter.textContent = counterText(area);
    area.after(counter);
    const described = area.getAttribute("aria-describedby");
    area.setAttribute("aria-describedby", described ? `${described} ${counter.id}` : counter.id);
    area.addEventListener("input", () => {
      counter.textContent = counterText(area);
      const near = area.value.length >= 0.9 * Number(area.getAttribute("maxlength"));
      counter.classList.toggle("near-limit", near);
    });
  });
}
addCounters(document);
document.addEventListener("htmx:load", (event) => addCounters(event.target));

// "Request handoff" while blockers remain asks first, naming them as #readiness lists them now
// (htmx keeps that list current as checklist items change), but for the technical advisor's
// acknowledgement, which comes after the request. Without JavaScript it posts at once.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm-blockers]");
  if (!form) return;
  const blockers = [...document.querySelectorAll("#readiness .rule-list > li:not([data-after-request]) a")].map((a) => a.textContent.trim());
  if (!blockers.length) return;
  const n = blockers.length;
  const named = blockers.slice(0, 5).join("; ") + (n > 5 ? `; and ${n - 5} more` : "");
  const besides = document.querySelector("#readiness .rule-list > li[data-after-request]")
    ? " besides the technical advisor's acknowledgement" : "";
  const question = `Request handoff with ${n} blocker${n === 1 ? "" : "s"} remaining${besides}? ${named}.`;
  if (!window.confirm(question)) event.preventDefault();
}, true);

// Paper carries the whole record: what is folded on screen (the settled checklist items, the
// rest of a long list) unfolds for printing and folds back after. A rule's blockers stay folded:
// the sections below name each of them.
let unfolded = [];
window.addEventListener("beforeprint", () => {
  unfolded = [...document.querySelectorAll("details.checklist-settled:not([open]), details.more-items:not([open])")];
  unfolded.forEach((details) => { details.open = true; });
});
window.addEventListener("afterprint", () => {
  unfolded.forEach((details) => { details.open = false; });
  unfolded = [];
});
