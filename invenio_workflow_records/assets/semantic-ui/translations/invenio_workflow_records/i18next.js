// SPDX-License-Identifier: MIT
// i18n of the workflow dashboards: keys are the English strings.
import i18n from "i18next";
import LanguageDetector from "i18next-browser-languagedetector";
import { initReactI18next } from "react-i18next";
import { translations } from "./messages";

const i18next = i18n.createInstance();
i18next
  .use(LanguageDetector)
  .use(initReactI18next)
  .init({
    fallbackLng: "en",
    returnEmptyString: false,
    resources: translations,
    keySeparator: false,
    nsSeparator: false,
    detection: { order: ["htmlTag"], caches: [] },
    // React escapes what it renders: escaping here too would show "&amp;".
    interpolation: { escapeValue: false },
  });

export { i18next };
