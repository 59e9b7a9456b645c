// Pure rendering of a problem as Markdown for the Show Problem preview.
import type { ProblemInfo } from './protocol';

function fence(text: string): string {
  // A fence longer than any backtick run inside the text keeps the block intact.
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  const body = text.endsWith('\n') ? text : `${text}\n`;
  return `${ticks}text\n${body}${ticks}`;
}

export function renderProblemMarkdown(problem: ProblemInfo): string {
  const lines: string[] = [];
  lines.push(`# ${problem.title}`, '');
  lines.push(
    `*Problem \`${problem.id}\` · time limit ${problem.timeLimitSeconds} s · memory limit ${problem.memoryLimitMb} MB*`,
    '',
  );
  lines.push(problem.statementMarkdown.trim(), '');
  if (problem.samples.length > 0) {
    lines.push('## Samples', '');
    for (const sample of problem.samples) {
      lines.push(`### ${sample.name}`, '', '**Input**', '', fence(sample.input), '', '**Output**', '', fence(sample.output), '');
    }
  }
  if (problem.hiddenTests > 0) {
    lines.push(
      `*Plus ${problem.hiddenTests} hidden test${problem.hiddenTests === 1 ? '' : 's'}: their inputs and answers stay on the runner.*`,
      '',
    );
  }
  return lines.join('\n');
}
