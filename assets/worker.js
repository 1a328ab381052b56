// hotserve event-stream owner.
//
// Browsers give a host only six HTTP/1.1 connections, and an open
// EventSource holds one for as long as it lives; with one stream per tab the
// seventh tab of the site would hang while loading. So the stream lives here:
//
// - run as a SharedWorker, one instance serves every tab and frame of the
//   origin over one connection;
// - run as a dedicated Worker, it serves the one page that started it (the
//   tab elected with Web Locks where SharedWorker is missing, or every tab
//   where both are missing).
//
// Each page gets {state: "connected"|"lost"} when the connection changes and
// {event: {build, previous, tree, paths}} for every server event. A page that
// joins late is first sent the latest of both, the event marked replay: true,
// so it learns the current build at once. Deciding what an event means is the page's job (client.js).
(function () {
  "use strict";
  var ports = [];
  var state = "";
  var last = null;
  var source = null;
  var failures = 0;

  function broadcast(msg) {
    ports.forEach(function (port) {
      port.postMessage(msg);
    });
  }

  // Pages log each state change once, so repeated errors while hotserve is
  // down must not repeat "lost".
  function setState(s) {
    if (s !== state) {
      state = s;
      broadcast({ state: s });
    }
  }

  function open() {
    source = new EventSource(new URL("events", location.href).href);
    source.onopen = function () {
      failures = 0;
      setState("connected");
    };
    source.onmessage = function (e) {
      try {
        last = JSON.parse(e.data);
      } catch (err) {
        return;
      }
      broadcast({ event: last });
    };
    // The first retry is the browser's own, after the server's retry: delay
    // (500 ms), and it sends Last-Event-ID so an unchanged build is not
    // resent. After that hotserve is probably restarting or stopped: back off
    // to 2, then every 3 seconds rather than hammering it. A new
    // EventSource starts with the current build, which pages compare with
    // the last build they saw.
    source.onerror = function () {
      setState("lost");
      failures++;
      if (failures === 1 && source.readyState === EventSource.CONNECTING) {
        return;
      }
      source.close();
      setTimeout(open, Math.min(1000 * failures, 3000));
    };
  }

  // A page says "bye" on pagehide and "hello" when it comes back from the
  // back/forward cache; it must not be sent events while it is hidden.
  function join(port) {
    if (ports.indexOf(port) < 0) {
      ports.push(port);
    }
    // Always an answer at once, if only an empty state: the page takes a
    // worker that says nothing for one that could not start.
    port.postMessage({ state: state });
    if (last) {
      // Marked as a replay: it may come from a server that has since
      // stopped, and a page must not reload for that.
      port.postMessage({ event: last, replay: true });
    }
    if (!source) {
      open();
    }
  }

  function listen(port) {
    port.onmessage = function (e) {
      if (e.data === "bye") {
        ports = ports.filter(function (p) {
          return p !== port;
        });
      } else if (e.data === "hello") {
        join(port);
      }
    };
    join(port);
  }

  if ("onconnect" in self) {
    self.onconnect = function (e) {
      listen(e.ports[0]);
    };
  } else {
    listen(self);
  }
})();
