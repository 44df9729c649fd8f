// Progressive enhancement for the claim list: every page works without this file.
// With it, changing a filter loads the canonical URL the server gives for it, swaps the
// results in place and puts that URL in the address bar.
(function () {
  "use strict";

  function setUpCopyButtons() {
    document.querySelectorAll("[data-copy-link]").forEach(function (button) {
      // Shown from the first paint (the CSS hides it without JavaScript), so it moves nothing.
      if (!navigator.clipboard) {
        button.hidden = true;
        return;
      }
      button.addEventListener("click", function () {
        // A claim page names its canonical URL; the list's address bar is always canonical.
        var url = button.dataset.copyLink || window.location.href;
        navigator.clipboard.writeText(url).then(function () {
          button.textContent = "Link copied";
          setTimeout(function () { button.textContent = "Copy link"; }, 2000);
        });
      });
    });
  }

  function browseRoot() {
    return document.querySelector("[data-browse]");
  }

  // Only the latest request may swap the list: an earlier, slower answer is dropped.
  var latestRequest = 0;

  function formUrl(form) {
    var query = new URLSearchParams(new FormData(form)).toString();
    return form.action + (query ? "?" + query : "");
  }

  async function load(url, pushToHistory) {
    var request = ++latestRequest;
    var root = browseRoot();
    root.setAttribute("aria-busy", "true");
    var focusedId = document.activeElement ? document.activeElement.id : "";
    var panel = root.querySelector("[data-collapse-on-small]");
    var panelWasOpen = panel ? panel.open : true;
    try {
      var response = await fetch(url, { headers: { Accept: "text/html" } });
      var html = await response.text();
      if (request !== latestRequest) return;
      var page = new DOMParser().parseFromString(html, "text/html");
      var fresh = page.querySelector("[data-browse]");
      if (!fresh) throw new Error("The response has no claim list.");
      var freshPanel = fresh.querySelector("[data-collapse-on-small]");
      if (freshPanel) freshPanel.open = panelWasOpen;
      browseRoot().replaceWith(fresh);
      document.title = page.title;
      ['link[rel="canonical"]', 'link[rel="alternate"]'].forEach(function (selector) {
        var fresher = page.querySelector(selector);
        var current = document.querySelector(selector);
        if (fresher && current) current.href = fresher.href;
      });
      if (pushToHistory) history.pushState({}, "", response.url);
      // Keep focus where it was; a removed chip has no successor, so go to the new summary.
      var focusTarget = (focusedId && document.getElementById(focusedId)) ||
        document.getElementById("results-heading");
      if (focusTarget && document.activeElement === document.body) focusTarget.focus();
      setUpCopyButtons();
    } catch (error) {
      if (request === latestRequest) window.location.href = url;
    }
  }

  function isListLink(link) {
    return link.origin === window.location.origin && link.pathname === window.location.pathname;
  }

  // The filter panel comes closed, so on a phone the results come first into view from the
  // first paint. Wide screens show its content with CSS alone; opening it there too keeps
  // its state true for assistive technology (and shows it in browsers the CSS misses).
  function openFiltersOnWideScreens() {
    if (window.matchMedia("(max-width: 52rem)").matches) return;
    document.querySelectorAll("[data-collapse-on-small]").forEach(function (panel) {
      panel.open = true;
    });
  }

  if (browseRoot() && window.fetch && window.history.pushState) {
    document.addEventListener("change", function (event) {
      var input = event.target;
      if (!input.closest("#filters") || !input.dataset.url) return;
      // data-url is the canonical URL for this one change to the list on screen; while an
      // earlier change is still loading, the form holds every tick (the server canonicalises).
      var busy = browseRoot().hasAttribute("aria-busy");
      load(busy ? formUrl(input.form) : input.dataset.url, true);
    });
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (form.id !== "filters") return;
      event.preventDefault();
      load(formUrl(form), true);
    });
    document.addEventListener("click", function (event) {
      var link = event.target.closest("#results a[href]");
      if (!link || !isListLink(link) || event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();
      load(link.href, true);
    });
    window.addEventListener("popstate", function (event) {
      // A skip link's #fragment is the same list: reloading it would take the focus away.
      if (event.state === null && window.location.hash) return;
      load(window.location.href, false);
    });
  }
  // "Skip to filters" on a phone lands on a folded panel: unfold it, so the next Tab is a filter.
  document.addEventListener("click", function (event) {
    if (!event.target.closest('a[href="#id_q"]')) return;
    document.querySelectorAll("#filters [data-collapse-on-small]").forEach(function (panel) {
      panel.open = true;
    });
  });
  openFiltersOnWideScreens();
  setUpCopyButtons();
})();
