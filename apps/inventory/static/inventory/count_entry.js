// Count entry: Enter moves to the next quantity box instead of submitting; the first empty box gets focus.
document.addEventListener("DOMContentLoaded", () => {
  const boxes = Array.from(document.querySelectorAll("input.count-qty"));
  const firstEmpty = boxes.find((box) => box.value === "") || boxes[0];
  if (firstEmpty) firstEmpty.focus();
  boxes.forEach((box, index) => {
    box.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      const next = boxes[index + 1];
      if (next) { next.focus(); next.select(); }
      else { document.querySelector("#count-entry input[name=save]").focus(); }
    });
  });
});
