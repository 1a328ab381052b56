// Shows that the page's own scripts run as usual next to hotserve's.
document.getElementById("clock").textContent =
  "Page loaded at " + new Date().toLocaleTimeString() + ".";
