// The page's static files (HTML, CSS and the icon) go next to the compiled modules in
// dist/client, which the server serves under /assets (and / for the page).
import { copyFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const client = fileURLToPath(new URL("../client/", import.meta.url));
const out = fileURLToPath(new URL("../dist/client/", import.meta.url));
mkdirSync(out, { recursive: true });
for (const file of ["index.html", "style.css", "favicon.svg"]) copyFileSync(client + file, out + file);
