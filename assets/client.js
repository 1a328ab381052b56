// hotserve live-reload client.
//
// The page was served with this script's tag carrying data-build: the build
// id of the site at the time the page was sent. The server's event stream
// sends the current build as soon as it connects and again after every batch
// of file changes. A page whose build differs from the announced one is stale
// and reloads. Because the stream always starts with the current build, a
// change made while the page was loading, or while hotserve was stopped, is
// never missed, and a restart with nothing changed causes no reload.
(function () {
  "use strict";
  var script = document.currentScript;
  var build = script && script.getAttribute("data-build");
  if (!build || typeof EventSource === "undefined") {
    return;
  }
  var source = null;

  function connect() {
    if (source) {
      return;
    }
    source = new EventSource("/__hotserve/events");
    source.onmessage = function (event) {
      var msg;
      try {
        msg = JSON.parse(event.data);
      } catch (err) {
        return;
      }
      if (String(msg.build) !== build) {
        console.log("[hotserve] reloading: " + (msg.paths || []).join(", "));
        disconnect();
        location.reload();
      }
    };
  }

  function disconnect() {
    if (source) {
      source.close();
      source = null;
    }
  }

  // A hidden or closed tab must not hold one of the browser's few
  // connections to this host; a page restored from the back/forward cache
  // reconnects and so learns at once whether it is stale.
  addEventListener("pagehide", disconnect);
  addEventListener("pageshow", connect);
  connect();
})();
