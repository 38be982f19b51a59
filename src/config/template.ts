/**
 * The small, strict subset of Jinja that io_config.yaml, pipeline variables
 * and SQL blocks use:
 *
 *   {{ env_var('POSTGRES_HOST') }}          {{ env_var('PORT', '5432') }}
 *   {{ secret('db-password') }}             {{ execution_date | date('%Y/%m/%d') }}
 *   {{ ds }}   {{ variables('taxi_url') }}   {{ df_1 }}
 *
 * Unlike Mage (full Jinja, where an unset variable renders as "None"), an
 * unknown name or a failing function is an error that names the template and
 * the expression, so a typo never becomes data.
 */

export type TemplateFunction = (...args: unknown[]) => unknown;
export type TemplateFilter = (value: unknown, ...args: unknown[]) => unknown;

export interface TemplateScope {
  readonly values?: Readonly<Record<string, unknown>>;
  readonly functions?: Readonly<Record<string, TemplateFunction>>;
  readonly filters?: Readonly<Record<string, TemplateFilter>>;
  /**
   * Names left as they are (`{{ df_1 }}` in a SQL block, rendered later by
   * the warehouse that stages the upstream tables).
   */
  readonly passThrough?: (name: string) => boolean;
}

/** Thrown with the expression that failed; callers wrap it with the file name. */
export class TemplateError extends Error {
  readonly expression: string;

  constructor(expression: string, message: string) {
    super(message);
    this.name = 'TemplateError';
    this.expression = expression;
  }
}

const EXPRESSION = /\{\{([\s\S]*?)\}\}/g;

/** Renders every `{{ … }}` in `text`. Values are stringified; null/undefined are errors. */
export function renderTemplate(text: string, scope: TemplateScope): string {
  return text.replace(EXPRESSION, (whole, inner: string) => {
    const source = inner.trim();
    if (scope.passThrough && /^[A-Za-z_]\w*$/.test(source) && scope.passThrough(source)) return whole;
    const value = evaluateExpression(source, scope);
    if (value === undefined || value === null) {
      throw new TemplateError(source, `{{ ${source} }} has no value`);
    }
    return value instanceof Date ? value.toISOString() : String(value);
  });
}

/** True when the text holds at least one `{{ … }}`. */
export function hasTemplate(text: string): boolean {
  return /\{\{[\s\S]*?\}\}/.test(text);
}

/** Evaluates one expression (the text between the braces). */
export function evaluateExpression(source: string, scope: TemplateScope): unknown {
  const parser = new Parser(source, scope);
  const value = parser.parseFiltered();
  parser.expectEnd();
  return value;
}

type Token =
  | { kind: 'name'; text: string }
  | { kind: 'string'; text: string }
  | { kind: 'number'; value: number }
  | { kind: 'punct'; text: string };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (/[A-Za-z_]/.test(ch)) {
      const m = /^[A-Za-z_]\w*/.exec(source.slice(i))!;
      tokens.push({ kind: 'name', text: m[0] });
      i += m[0].length;
    } else if (/[0-9]/.test(ch) || (ch === '-' && /[0-9]/.test(source[i + 1] ?? ''))) {
      const m = /^-?\d+(\.\d+)?/.exec(source.slice(i))!;
      tokens.push({ kind: 'number', value: Number(m[0]) });
      i += m[0].length;
    } else if (ch === "'" || ch === '"') {
      let j = i + 1;
      let text = '';
      while (j < source.length && source[j] !== ch) {
        if (source[j] === '\\' && j + 1 < source.length) j++;
        text += source[j];
        j++;
      }
      if (j >= source.length) throw new TemplateError(source, `unterminated string in {{ ${source} }}`);
      tokens.push({ kind: 'string', text });
      i = j + 1;
    } else if ('(),|.'.includes(ch)) {
      tokens.push({ kind: 'punct', text: ch });
      i++;
    } else {
      throw new TemplateError(source, `unexpected ${JSON.stringify(ch)} in {{ ${source} }}`);
    }
  }
  return tokens;
}

class Parser {
  private readonly tokens: Token[];
  private pos = 0;

  constructor(
    private readonly source: string,
    private readonly scope: TemplateScope,
  ) {
    this.tokens = tokenize(source);
  }

  parseFiltered(): unknown {
    let value = this.parsePrimary();
    while (this.peekPunct('|')) {
      this.pos++;
      const name = this.expectName();
      const filter = this.scope.filters?.[name];
      if (!filter) throw new TemplateError(this.source, `unknown filter "${name}" in {{ ${this.source} }}`);
      const args = this.peekPunct('(') ? this.parseArgs() : [];
      value = filter(value, ...args);
    }
    return value;
  }

  expectEnd(): void {
    if (this.pos < this.tokens.length) {
      throw new TemplateError(this.source, `unexpected text after the expression in {{ ${this.source} }}`);
    }
  }

  private parsePrimary(): unknown {
    const token = this.tokens[this.pos++];
    if (!token) throw new TemplateError(this.source, 'empty {{ }}');
    let value: unknown;
    if (token.kind === 'string') value = token.text;
    else if (token.kind === 'number') value = token.value;
    else if (token.kind === 'name') {
      if (this.peekPunct('(')) {
        const fn = this.scope.functions?.[token.text];
        if (!fn) throw new TemplateError(this.source, `unknown function "${token.text}" in {{ ${this.source} }}`);
        value = fn(...this.parseArgs());
      } else if (token.text === 'true' || token.text === 'false') {
        value = token.text === 'true';
      } else {
        const values = this.scope.values ?? {};
        if (!Object.hasOwn(values, token.text)) {
          const known = Object.keys(values).sort().join(', ');
          throw new TemplateError(this.source, `unknown name "${token.text}" in {{ ${this.source} }}${known ? ` (known: ${known})` : ''}`);
        }
        value = values[token.text];
      }
    } else {
      throw new TemplateError(this.source, `unexpected "${token.text}" in {{ ${this.source} }}`);
    }
    while (this.peekPunct('.')) {
      this.pos++;
      const attr = this.expectName();
      if (value === null || typeof value !== 'object' || !(attr in (value as object))) {
        throw new TemplateError(this.source, `no attribute "${attr}" in {{ ${this.source} }}`);
      }
      value = (value as Record<string, unknown>)[attr];
    }
    return value;
  }

  private parseArgs(): unknown[] {
    this.pos++; // (
    const args: unknown[] = [];
    if (this.peekPunct(')')) {
      this.pos++;
      return args;
    }
    for (;;) {
      args.push(this.parseFiltered());
      if (this.peekPunct(',')) {
        this.pos++;
        continue;
      }
      if (this.peekPunct(')')) {
        this.pos++;
        return args;
      }
      throw new TemplateError(this.source, `expected "," or ")" in {{ ${this.source} }}`);
    }
  }

  private expectName(): string {
    const token = this.tokens[this.pos++];
    if (token?.kind !== 'name') throw new TemplateError(this.source, `expected a name in {{ ${this.source} }}`);
    return token.text;
  }

  private peekPunct(text: string): boolean {
    const token = this.tokens[this.pos];
    return token?.kind === 'punct' && token.text === text;
  }
}
