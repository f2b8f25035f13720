// SPDX-License-Identifier: MIT
// State of a confirmed request in a modal: busy while it runs, its error
// message if it fails (the modal stays open), `onDone` once it succeeded.
import { useState } from "react";
import { errorMessage } from "../api";

export function useSubmit(request, onDone) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      await request();
      setBusy(false);
      onDone();
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  };
  return { busy, error, submit };
}
