// Copy buttons for pull commands; everything else works without script.
document.addEventListener("click", function (e) {
  var b = e.target.closest ? e.target.closest("button[data-copy]") : null;
  if (!b) return;
  var done = function () { b.textContent = b.getAttribute("data-done"); };
  var fallback = function () {
    var i = b.previousElementSibling;
    if (i && i.select) { i.select(); document.execCommand("copy"); done(); }
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(b.getAttribute("data-copy")).then(done, fallback);
  } else {
    fallback();
  }
});
