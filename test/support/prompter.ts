/** A scripted stand-in for the terminal prompts of `xspot-cdk init`, recording what was asked and offered. */
import type { Choice, Prompter } from '../../lib/cli/init';

export const ENTER_LATER = Symbol('pick the "enter an id" choice, then leave it empty');

export interface Asked {
  readonly kind: 'input' | 'select' | 'checkbox';
  readonly message: string;
  readonly choices?: readonly Choice<unknown>[];
}

/**
 * Answers by the first rule whose key the question's message contains: a string or string[] (the
 * value), a function of the question, or ENTER_LATER. Unmatched questions take their default (or
 * the pre-checked choices).
 */
export function scripted(rules: Record<string, unknown>, asked: Asked[] = []): Prompter {
  const rule = (message: string) => Object.entries(rules).find(([k]) => message.includes(k))?.[1];
  return {
    async input(q) {
      asked.push({ kind: 'input', message: q.message });
      const r = rule(q.message);
      const answer = typeof r === 'string' ? r : r === ENTER_LATER ? '' : (q.default ?? '');
      const ok = q.validate?.(answer) ?? true;
      if (ok !== true)
        throw new Error(`the scripted answer ${JSON.stringify(answer)} to "${q.message}" is invalid: ${ok}`);
      return answer;
    },
    async select<T>(q: { message: string; choices: readonly Choice<T>[]; default?: T }) {
      asked.push({ kind: 'select', message: q.message, choices: q.choices });
      const r = rule(q.message);
      if (r === ENTER_LATER) {
        const enter = q.choices.find((c) => /enter its id/.test(c.name));
        if (!enter) throw new Error(`no "enter" choice in ${q.message}`);
        return enter.value;
      }
      if (typeof r === 'function') return (r as (c: readonly Choice<T>[]) => T)(q.choices);
      if (r !== undefined) {
        const c = q.choices.find((x) => x.value === r);
        if (!c) throw new Error(`${String(r)} is not offered for "${q.message}"`);
        return c.value;
      }
      return q.default ?? q.choices[0].value;
    },
    async checkbox<T>(q: {
      message: string;
      choices: readonly Choice<T>[];
      validate?: (v: readonly T[]) => true | string;
    }) {
      asked.push({ kind: 'checkbox', message: q.message, choices: q.choices });
      const r = rule(q.message);
      const picked = Array.isArray(r) ? (r as T[]) : q.choices.filter((c) => c.checked).map((c) => c.value);
      for (const p of picked) if (!q.choices.some((c) => c.value === p)) throw new Error(`${String(p)} is not offered`);
      const ok = q.validate?.(picked) ?? true;
      if (ok !== true) throw new Error(ok);
      return picked;
    },
  };
}
