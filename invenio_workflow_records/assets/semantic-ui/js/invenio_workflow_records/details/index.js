// SPDX-License-Identifier: MIT
// Entry "invenio-workflow-records-details".
import React from "react";
import ReactDOM from "react-dom";
import { WorkflowDashboard } from "./WorkflowDashboard";

const container = document.getElementById("invenio-workflow-records-details");
if (container) {
  const config = JSON.parse(container.dataset.config);
  ReactDOM.render(<WorkflowDashboard config={config} />, container);
}
