// Added by `report serve` to every page it serves (never by `report build`): reloads the page
// when a build changed it (the server names each page's build), shows why the last change does
// not build (the page stays the last good build), and says when the server has gone away.
(() => {
  "use strict";
  let build = null;
  const box = document.createElement("div");
  box.id = "report-serve";
  box.setAttribute("role", "status");
  box.style.cssText = "position:fixed;left:0;right:0;bottom:0;z-index:2147483647;max-height:60vh;" +
    "overflow:auto;margin:0;padding:.75em 1em;font:13px/1.45 ui-monospace,SFMono-Regular,Menlo," +
    "Consolas,monospace;white-space:pre-wrap;color:#fff;display:none";
  const show = (text, background) => {
    box.textContent = text;
    box.style.background = background;
    box.style.display = "block";
    if (!box.isConnected) document.body.appendChild(box);
  };
  const events = new EventSource("/_report/events?page=" + encodeURIComponent(location.pathname));
  events.addEventListener("state", (e) => {
    const state = JSON.parse(e.data);
    if (build !== null && state.build !== build) {
      location.reload();
      return;
    }
    build = state.build;
    if (state.error) {
      show("report serve: the last change does not build; this page is the last good build.\n\n" +
        state.error, "#9b1c1c");
    } else {
      box.style.display = "none";
    }
  });
  events.addEventListener("error", () => {
    show("report serve has stopped: this page no longer reloads. It reloads by itself when " +
      "`report serve` runs again.", "#4b5563");
  });
})();
