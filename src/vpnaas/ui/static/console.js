// Progressive enhancements of the console; every page works without them.
"use strict";

// The psk generator: 32 random bytes, base64url, shown once so it can be
// copied to the peer.
function setupPskGenerator() {
  const button = document.getElementById("psk-generate");
  const input = document.getElementById("psk");
  if (!button || !input || !window.crypto) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", () => {
    const bytes = new Uint8Array(32);
    window.crypto.getRandomValues(bytes);
    const text = btoa(String.fromCharCode(...bytes))
      .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    input.value = text;
    input.type = "text";
    input.focus();
    input.select();
  });
}

// Inline-creation sections: show the "new" fields only when "Create a new
// one" is chosen.
function setupInlineChoices() {
  for (const select of document.querySelectorAll("select.inline-choice")) {
    const section = document.querySelector(`.inline-new[data-for="${select.id}"]`);
    if (!section) {
      continue;
    }
    const update = () => { section.hidden = select.value !== "new"; };
    select.addEventListener("change", update);
    update();
  }
}

document.addEventListener("DOMContentLoaded", () => {
  setupPskGenerator();
  setupInlineChoices();
});
