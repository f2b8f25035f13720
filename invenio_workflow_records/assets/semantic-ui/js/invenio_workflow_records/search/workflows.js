// SPDX-License-Identifier: MIT
// Entry "invenio-workflow-records-workflows-search": the admin search app
// with the workflow row component.
import React from "react";
import { createSearchAppInit } from "@js/invenio_search_ui";
import {
  initDefaultSearchComponents,
  SearchBulkActionContext,
} from "@js/invenio_administration";
import { WorkflowResultItem } from "./WorkflowResultItem";

const domContainer = document.getElementById("invenio-search-config");
const listUIEndpoint = domContainer.dataset.listEndpoint;

const Row = (props) => (
  <WorkflowResultItem {...props} listUIEndpoint={listUIEndpoint} />
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
