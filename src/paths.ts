/** Where the package's own files live, for both src/ (tests, tsx) and dist/ (installed). */
import { fileURLToPath } from "node:url";

export const packageRoot = fileURLToPath(new URL("../", import.meta.url));
