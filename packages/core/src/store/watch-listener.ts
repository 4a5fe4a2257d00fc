import { ErrorCodes } from "../errors.js";
import type { StoreChange } from "./store-contract.js";

/**
 * A watch listener as every store calls it: a listener that throws (the
 * contract says it must not) is reported as a process warning instead of
 * breaking the store's change feed for every other listener.
 */
export function guardListener(listener: (change: StoreChange) => void): (change: StoreChange) => void {
  return (change) => {
    try {
      listener(change);
    } catch (error) {
      process.emitWarning(`A tmux-claude store watch listener threw on ${JSON.stringify(change)}: ${String(error)}`, { code: ErrorCodes.STORE_FAILED });
    }
  };
}
