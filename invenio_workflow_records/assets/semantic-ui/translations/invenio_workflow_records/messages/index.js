// SPDX-License-Identifier: MIT
// Compiled catalogues go here (one import a language), e.g.
//   import TRANSLATE_de from "./de/translations.json";
//   export const translations = { de: { translation: TRANSLATE_de } };
export const translations = {};
