// Prints the OpenBLAS include dir (`include`) or linker flags (`libs`) for binding.gyp.
import { findOpenBlas } from "./find-openblas.mjs";

const found = findOpenBlas();
if (!found) process.exit(1);
console.log(process.argv[2] === "include" ? found.includeDir : found.libs.join(" "));
