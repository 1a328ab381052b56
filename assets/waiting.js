// hotserve waiting page: the backend that serves this page did not answer.
// Ask hotserve, every 250 ms, whether it accepts connections again, and
// reload the page as soon as it does. hotserve answers 200 when the backend
// is up and 503 while it is down.
(function () {
  "use strict";
  // Beside this script, wherever hotserve serves it from.
  var backend = new URL("backend", document.currentScript.src).pathname;
  var url = backend + "?path=" + encodeURIComponent(location.pathname);
  function check() {
    fetch(url, { cache: "no-store" }).then(function (res) {
      if (res.ok) {
        location.reload();
      } else {
        setTimeout(check, 250);
      }
    }, function () {
      setTimeout(check, 1000); // hotserve itself is restarting
    });
  }
  check();
})();
