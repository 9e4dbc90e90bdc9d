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

// "Request handoff…" asks first: htmx loads the server's confirmation under the button
// (closeout/_handoff_request_confirm.html). Focus moves to its question; Cancel or Escape folds
// it away and puts focus back on the button. Without JavaScript the button opens it as a page.
document.addEventListener("htmx:afterSettle", (event) => {
  const step = event.detail.target.querySelector && event.detail.target.querySelector("[data-confirm-step]");
  if (step) step.querySelector("[tabindex='-1']").focus();
});
function closeConfirmStep(step) {
  const slot = step.parentElement;
  slot.replaceChildren();
  const trigger = document.querySelector(`[data-hx-target="#${slot.id}"]`);
  if (trigger) trigger.focus();
}
document.addEventListener("click", (event) => {
  const cancel = event.target.closest("[data-confirm-cancel]");
  const step = cancel && cancel.closest("[data-confirm-step]");
  if (!step || !step.parentElement.id) return;  // the page of its own: Cancel is a link back
  event.preventDefault();
  closeConfirmStep(step);
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const step = event.target.closest && event.target.closest("[data-confirm-step]");
  if (step && step.parentElement.id) closeConfirmStep(step);
});

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

// A phone shows My work's and the Vitally sync page's wide lists as cards, one row a card:
// each cell carries its column's title for the CSS to show beside it (without JavaScript the
// table scrolls in its box, as every table does).
function labelCells(root) {
  root.querySelectorAll("table.cards-on-phone").forEach((table) => {
    const titles = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
    table.querySelectorAll("tbody tr").forEach((row) => {
      [...row.children].forEach((cell, i) => {
        if (titles[i]) cell.setAttribute("data-label", titles[i]);
        // A card shows no title beside nothing (an action column without an action).
        cell.classList.toggle("card-empty", !cell.textContent.trim() && !cell.querySelector("img, input, select, textarea"));
      });
    });
  });
}
labelCells(document);
document.addEventListener("htmx:load", (event) => labelCells(event.target));

// The account form's Vitally field (vitally_sync/linking.py): the search's results are buttons;
// choosing one puts its id in the field. Down arrow from the field goes to the first result,
// arrows move between them, Escape closes the list and returns to the field.
function vitallyField(element) {
  const wrap = element.closest(".vitally-search-field");
  return wrap ? wrap.querySelector("[data-vitally-search]") : null;
}
document.addEventListener("click", (event) => {
  const pick = event.target.closest("[data-vitally-pick]");
  if (!pick) return;
  const field = vitallyField(pick);
  if (!field) return;
  field.value = pick.dataset.vitallyPick;
  const results = pick.closest(".vitally-search-results");
  const note = document.createElement("p");
  note.className = "help";
  const held = Number(pick.dataset.vitallyValues || 0);
  // Before the save: what the link will ask of the person (vitally_sync/linking.py).
  const after = held
    ? ` Vitally holds values for ${held} of the portal's fields: after the save, the Vitally section shows those that differ from the portal's, to keep or take.`
    : "";
  note.textContent = `Chosen: ${pick.dataset.vitallyName} (${pick.dataset.vitallyPick}). Save the account to link it.${after}`;
  results.replaceChildren(note);
  field.focus();
});
document.addEventListener("keydown", (event) => {
  const target = event.target;
  if (target.matches && target.matches("[data-vitally-search]") && event.key === "ArrowDown") {
    const results = target.closest(".vitally-search-field").querySelector(".vitally-search-results");
    const first = results && results.querySelector("button:not([disabled])");
    if (first) {
      event.preventDefault();
      first.focus();
    }
    return;
  }
  const pick = target.closest && target.closest("[data-vitally-pick]");
  if (!pick) return;
  const buttons = [...pick.closest("ul").querySelectorAll("button:not([disabled])")];
  const index = buttons.indexOf(pick);
  if (event.key === "ArrowDown" && index < buttons.length - 1) {
    event.preventDefault();
    buttons[index + 1].focus();
  } else if (event.key === "ArrowUp") {
    event.preventDefault();
    if (index > 0) buttons[index - 1].focus();
    else vitallyField(pick).focus();
  } else if (event.key === "Escape") {
    event.preventDefault();
    const field = vitallyField(pick);
    pick.closest(".vitally-search-results").replaceChildren();
    field.focus();
  }
});

// Import from Vitally: filtering the list (htmx) must not lose the accounts already chosen.
// The chosen rows are kept through the swap: checked again if the new list has them, else
// added at its end, still checked, so "Import" sends every account chosen.
let importChosen = [];
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.target.id !== "import-rows") return;
  importChosen = [...event.detail.target.querySelectorAll(".import-list input:checked")].map(
    (box) => box.closest("li").cloneNode(true),
  );
});
document.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.target.id !== "import-rows" || !importChosen.length) return;
  const list = event.detail.target.querySelector(".import-list");
  if (!list) return;
  importChosen.forEach((item) => {
    const value = item.querySelector("input").value;
    const present = [...list.querySelectorAll("input")].find((box) => box.value === value);
    if (present) {
      present.checked = true;
    } else {
      const box = item.querySelector("input");
      box.id = `${box.id}-kept`;
      item.querySelector("label").htmlFor = box.id;
      box.checked = true;
      list.appendChild(item);
    }
  });
  importChosen = [];
});
