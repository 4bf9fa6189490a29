// Typeset the math that pymdownx.arithmatex marks, on every page load (including
// mkdocs-material's instant navigation, which `document$` announces).
document$.subscribe(({ body }) => {
  renderMathInElement(body, {
    delimiters: [
      { left: "\\(", right: "\\)", display: false },
      { left: "\\[", right: "\\]", display: true },
    ],
    throwOnError: false,
  });
});
