// SPDX-License-Identifier: MIT
// The first `size` revisions (newest first) of a record's `links.revisions`,
// reloaded when the record gets a new revision (`revisionId`) or `size` grows;
// answers to an outdated request are dropped.
import { useEffect, useState } from "react";
import { WorkflowsApi, errorMessage } from "../api";

export function useRevisions(url, revisionId, size) {
  const [state, setState] = useState({ hits: null, total: 0, error: null });
  useEffect(() => {
    let current = true;
    WorkflowsApi.revisions(url, 1, size)
      .then(({ data }) => {
        if (current)
          setState({ hits: data.hits.hits, total: data.hits.total, error: null });
      })
      .catch((e) => current && setState((s) => ({ ...s, error: errorMessage(e) })));
    return () => {
      current = false;
    };
  }, [url, revisionId, size]);
  return state;
}
