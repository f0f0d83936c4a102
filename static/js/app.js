// Progressive enhancement only: every page works without this file.
document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
  input.addEventListener("focus", function () { input.select(); });
});

// The error summary's links. Followed as plain links, they scroll the field to the top of the
// window, leaving its label and hint above it, out of sight. Instead: bring the field's label (or
// its group's legend) into view, then put the cursor in the field without scrolling again.
// (The pattern of the GOV.UK Design System's error summary.)
function labelOrLegendOf(field) {
  var fieldset = field.closest("fieldset");
  var legend = fieldset && fieldset.querySelector("legend");
  if (legend) {
    // A choice among boxes is named by its legend; a text field by its own label, unless the
    // legend fits on the screen with it.
    if (field.type === "radio" || field.type === "checkbox") { return legend; }
    var fieldBottom = field.getBoundingClientRect().bottom;
    if (fieldBottom - legend.getBoundingClientRect().top < window.innerHeight / 2) { return legend; }
  }
  return (field.labels && field.labels[0]) || field.closest("label");
}

function fieldFor(target) {
  if (target.matches("input, select, textarea")) { return target; }
  // A link to a group (its legend or fieldset) leads to the group's first field.
  var group = target.closest("fieldset") || target;
  return group.querySelector("input:not([type=hidden]), select, textarea");
}

document.querySelectorAll(".error-summary a[href^='#']").forEach(function (link) {
  link.addEventListener("click", function (event) {
    var target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
    var field = target && fieldFor(target);
    if (!field) { return; }  // let the browser follow the link
    event.preventDefault();
    var shown = labelOrLegendOf(field) || field;
    shown.scrollIntoView();
    field.focus({ preventScroll: true });
  });
});
