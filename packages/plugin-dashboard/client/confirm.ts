// A confirmation in a <dialog> (not window.confirm: tests can drive it, and it
// can show what exactly will happen).
import { el } from "./format.js";

export class ConfirmDialog {
  readonly #dialog: HTMLDialogElement;
  readonly #title: HTMLElement;
  readonly #body: HTMLElement;
  readonly #ok: HTMLButtonElement;
  #resolve: ((ok: boolean) => void) | undefined;

  constructor(parent: HTMLElement) {
    this.#dialog = el("dialog", { className: "confirm", testid: "confirm-dialog" });
    this.#title = el("h2", { testid: "confirm-title" });
    this.#body = el("p", { testid: "confirm-body" });
    const cancel = el("button", { text: "Cancel", testid: "confirm-cancel" });
    cancel.type = "button";
    this.#ok = el("button", { text: "Confirm", testid: "confirm-ok", className: "primary" });
    this.#ok.type = "button";
    const buttons = el("div", { className: "buttons" });
    buttons.append(cancel, this.#ok);
    this.#dialog.append(this.#title, this.#body, buttons);
    parent.append(this.#dialog);
    cancel.addEventListener("click", () => this.#finish(false));
    this.#ok.addEventListener("click", () => this.#finish(true));
    // Escape closes the dialog without a click.
    this.#dialog.addEventListener("close", () => this.#finish(false));
  }

  /** Resolves true when the person confirms. */
  ask(title: string, body: string, confirmLabel: string): Promise<boolean> {
    this.#finish(false);
    this.#title.textContent = title;
    this.#body.textContent = body;
    this.#ok.textContent = confirmLabel;
    this.#dialog.showModal();
    return new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  #finish(ok: boolean): void {
    const resolve = this.#resolve;
    this.#resolve = undefined;
    if (this.#dialog.open) this.#dialog.close();
    resolve?.(ok);
  }
}
