// SPDX-License-Identifier: MIT
// Entry "invenio-workflow-records-tasks-search": tasks of all workflows.
import React from "react";
import { createSearchAppInit } from "@js/invenio_search_ui";
import {
  initDefaultSearchComponents,
  SearchBulkActionContext,
} from "@js/invenio_administration";
import { TaskResultItem } from "./TaskResultItem";

const domContainer = document.getElementById("invenio-search-config");
// /administration/workflow-tasks -> /administration/workflows
const workflowsUIEndpoint = domContainer.dataset.listEndpoint.replace(
  /workflow-tasks$/,
  "workflows"
);

const Row = (props) => (
  <TaskResultItem {...props} workflowsUIEndpoint={workflowsUIEndpoint} />
);

createSearchAppInit(
  {
    ...initDefaultSearchComponents(domContainer),
    "InvenioAdministration.SearchResultItem.layout": Row,
  },
  true,
  "invenio-search-config",
  false,
  SearchBulkActionContext
);
