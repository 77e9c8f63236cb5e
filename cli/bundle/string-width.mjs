// The CLI bundle's stand-in for the `string-width` package (esbuild alias, see build.mjs).
//
// yargs measures every line of help text with string-width, and both copies it loads build an
// Intl.Segmenter as soon as they are imported: ~25 ms each on every start, even for commands
// that print no help. Help text is almost always ASCII, so this measures ASCII directly and
// segments other text lazily, with the same rules in short: no width for control, format and
// combining characters, 2 for emoji and East Asian wide or fullwidth characters, 1 otherwise.
const ANSI = /[\u001B\u009B](?:\][^\u0007\u001B]*(?:\u0007|\u001B\\)|[[\]()#;?]*(?:\d{1,4}(?:;\d{0,4})*)?[\dA-PR-TZcf-nq-uy=><~])/g;
const PRINTABLE_ASCII = /^[\u0020-\u007e]*$/;
const ZERO_WIDTH = /^[\p{Default_Ignorable_Code_Point}\p{Control}\p{Format}\p{Mark}\p{Surrogate}]+$/u;
const EMOJI_PRESENTATION = /\p{Emoji_Presentation}|\uFE0F/u;
const WIDE =
  /^[\u1100-\u115F\u231A\u231B\u2329\u232A\u23E9-\u23EC\u23F0\u23F3\u25FD\u25FE\u2614\u2615\u2648-\u2653\u267F\u2693\u26A1\u26AA\u26AB\u26BD\u26BE\u26C4\u26C5\u26CE\u26D4\u26EA\u26F2\u26F3\u26F5\u26FA\u26FD\u2705\u270A\u270B\u2728\u274C\u274E\u2753-\u2755\u2757\u2795-\u2797\u27B0\u27BF\u2B1B\u2B1C\u2B50\u2B55\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uA960-\uA97F\uAC00-\uD7A3\uF900-\uFAFF\uFE10-\uFE19\uFE30-\uFE6F\uFF00-\uFF60\uFFE0-\uFFE6\u{16FE0}-\u{18CFF}\u{1AFF0}-\u{1B2FF}\u{1F004}\u{1F0CF}\u{1F18E}\u{1F191}-\u{1F19A}\u{1F200}-\u{1F64F}\u{1F680}-\u{1F6FF}\u{1F7E0}-\u{1F7EB}\u{1F90C}-\u{1F9FF}\u{1FA70}-\u{1FAFF}\u{20000}-\u{3FFFD}]/u;

let segmenter;
let emoji; // built on first use: a /v regular expression is compiled when created

export default function stringWidth(string, options = {}) {
  if (typeof string !== "string" || string.length === 0) return 0;
  if (!options.countAnsiEscapeCodes && (string.includes("\u001B") || string.includes("\u009B"))) string = string.replace(ANSI, "");
  if (PRINTABLE_ASCII.test(string)) return string.length;
  segmenter ??= new Intl.Segmenter();
  emoji ??= new RegExp("^\\p{RGI_Emoji}$", "v");
  let width = 0;
  for (const { segment } of segmenter.segment(string)) {
    if (ZERO_WIDTH.test(segment)) continue;
    if ((emoji.test(segment) && EMOJI_PRESENTATION.test(segment)) || WIDE.test(segment)) width += 2;
    else width += 1;
  }
  return width;
}
