// SPDX-License-Identifier: MIT
// Entry "invenio-workflow-records-subject": mounts every subject widget of
// the page (the divs written by the `subject_workflows` Jinja macro of
// invenio_workflow_records/macros/subject.html).
import React from "react";
import ReactDOM from "react-dom";
import { SubjectWorkflows } from "./SubjectWorkflows";

const number = (value, fallback) => {
  const n = parseInt(value, 10);
  return Number.isFinite(n) && n > 0 ? n : fallback;
};

document.querySelectorAll(".invenio-workflow-records-subject").forEach((el) => {
  const { dataset } = el;
  ReactDOM.render(
    <SubjectWorkflows
      apiEndpoint={dataset.apiEndpoint}
      dashboardUrl={dataset.dashboardUrl || ""}
      subject={{ type: dataset.subjectType, id: dataset.subjectId }}
      size={number(dataset.size, 5)}
      pollInterval={number(dataset.pollInterval, 3000)}
      title={dataset.title}
    />,
    el
  );
});
