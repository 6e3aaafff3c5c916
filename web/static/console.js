// The console's one script (no inline script runs under its Content-Security-Policy):
// zoom and rotate the documents; a double click cannot send a form twice.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const turns = new Map();
  const apply = (image) => {
    const state = turns.get(image.id) || { zoom: 1, angle: 0 };
    image.style.transform = `scale(${state.zoom}) rotate(${state.angle}deg)`;
  };
  for (const button of document.querySelectorAll("[data-zoom]")) {
    button.addEventListener("click", () => {
      const image = document.getElementById(button.dataset.zoom);
      const state = turns.get(image.id) || { zoom: 1, angle: 0 };
      state.zoom = state.zoom >= 2 ? 1 : state.zoom + 0.5;
      turns.set(image.id, state);
      apply(image);
    });
  }
  for (const button of document.querySelectorAll("[data-rotate]")) {
    button.addEventListener("click", () => {
      const image = document.getElementById(button.dataset.rotate);
      const state = turns.get(image.id) || { zoom: 1, angle: 0 };
      state.angle = (state.angle + 90) % 360;
      turns.set(image.id, state);
      apply(image);
    });
  }
  for (const form of document.querySelectorAll("form")) {
    form.addEventListener("submit", () => {
      for (const button of form.querySelectorAll("button[type=submit]")) button.disabled = true;
    });
  }
});
