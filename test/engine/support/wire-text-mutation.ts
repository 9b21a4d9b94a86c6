/**
 * Mutations of a response text for the decode-equivalence tests of the text decoders (pull pages,
 * snapshot chunks): each mutated text must decode exactly as the general path decodes it, or be
 * left to that path.
 */

/** Wire values each decoder must refuse or read as the general path does. */
const BAD_VALUES = [
  '"007"',
  '"-0"',
  '"1.50"',
  '"NaN"',
  '"2"',
  '"x"',
  '"AAE"',
  '1',
  'true',
  '"\\n"',
  '{}',
  '"0B0E0000-0000-4000-8000-000000000001"',
];

/** A mutation of `text`: a character changed, dropped or doubled, or a member value replaced. */
export function mutateWireText(rnd: () => number, text: string): string {
  const at = Math.floor(rnd() * text.length);
  switch (Math.floor(rnd() * 4)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1);
    case 1:
      return text.slice(0, at) + text[at] + text.slice(at);
    case 2:
      return text.slice(0, at) + '"{}[],:01a\\ -'[Math.floor(rnd() * 14)] + text.slice(at + 1);
    default: {
      const values = [...text.matchAll(/:("[^"]*"|null|true|false)/g)];
      if (values.length === 0) return text;
      const v = values[Math.floor(rnd() * values.length)]!;
      const bad = BAD_VALUES[Math.floor(rnd() * BAD_VALUES.length)]!;
      return text.slice(0, v.index + 1) + bad + text.slice(v.index + 1 + v[1]!.length);
    }
  }
}
