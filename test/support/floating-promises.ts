// Finds promises nobody waits for, with TypeScript's own type checker: a statement whose value is
// a promise (neither awaited, returned, nor marked `void` on purpose), a function that returns
// a promise given where a function returning nothing is expected (an `async` callback to
// `forEach`, a listener, a timer), and a promise spread (`{ ...p }`) or tested (`if (p)`) as if
// it were its value. Either one lets a rejected store write go unnoticed, or a
// transaction end before the write it was meant to hold.
import ts from 'typescript';

export interface Floating {
  file: string;
  line: number;
  text: string;
  why: 'statement' | 'callback' | 'spread' | 'condition' | 'expect';
}

function isPromise(checker: ts.TypeChecker, type: ts.Type): boolean {
  if (type.isUnion()) return type.types.some((t) => isPromise(checker, t));
  const then = type.getProperty('then');
  if (!then) return false;
  const thenType = checker.getTypeOfSymbol(then);
  return thenType.getCallSignatures().length > 0;
}

function returnsVoid(type: ts.Type): boolean {
  const signatures = type.getCallSignatures();
  return signatures.length > 0 && signatures.every((s) => (s.getReturnType().flags & (ts.TypeFlags.Void | ts.TypeFlags.Undefined)) !== 0);
}

/** Every floating promise in the program's own files under `roots`. */
export function floatingPromises(tsconfig: string, roots: string[]): Floating[] {
  const config = ts.getParsedCommandLineOfConfigFile(tsconfig, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
  const program = ts.createProgram(config.fileNames, config.options);
  const checker = program.getTypeChecker();
  const found: Floating[] = [];
  const report = (node: ts.Node, why: Floating['why']) => {
    const source = node.getSourceFile();
    found.push({ file: source.fileName, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, text: node.getText().slice(0, 90), why });
  };
  const visit = (node: ts.Node) => {
    if (ts.isExpressionStatement(node)) {
      const e = node.expression;
      // Handled already: `p.catch(f)`, `p.then(f, g)`; kept: `x = p`, `x ??= p`.
      const handled = ts.isCallExpression(e) && ts.isPropertyAccessExpression(e.expression)
        && (e.expression.name.text === 'catch' || (e.expression.name.text === 'then' && e.arguments.length === 2));
      const assigned = ts.isBinaryExpression(e) && [ts.SyntaxKind.EqualsToken, ts.SyntaxKind.QuestionQuestionEqualsToken,
        ts.SyntaxKind.BarBarEqualsToken].includes(e.operatorToken.kind);
      const deliberate = ts.isVoidExpression(e) || ts.isAwaitExpression(e) || handled || assigned;
      if (!deliberate && isPromise(checker, checker.getTypeAtLocation(e))) report(node, 'statement');
    }
    // A test's `expect(p)` of a promise, without .resolves or .rejects, checks the promise itself.
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'expect' && node.arguments[0]) {
      const arg = node.arguments[0];
      const chained = ts.isPropertyAccessExpression(node.parent) && ['resolves', 'rejects'].includes(node.parent.name.text);
      const thrower = (ts.isArrowFunction(arg) || ts.isFunctionExpression(arg)) && isPromise(checker, checker.getTypeAtLocation(arg).getCallSignatures()[0]?.getReturnType() ?? checker.getTypeAtLocation(arg));
      if (!chained && (isPromise(checker, checker.getTypeAtLocation(arg)) || thrower)) report(node, 'expect');
      // …and `expect(await p).rejects` throws before expect sees anything.
      if (chained && ts.isAwaitExpression(arg)) report(node, 'expect');
    }
    // `{ ...p }` of a promise copies nothing; `if (p)` of one is always true.
    if ((ts.isSpreadAssignment(node) || ts.isSpreadElement(node)) && isPromise(checker, checker.getTypeAtLocation(node.expression))) report(node, 'spread');
    if ((ts.isIfStatement(node) || ts.isConditionalExpression(node)) && isPromise(checker, checker.getTypeAtLocation(ts.isIfStatement(node) ? node.expression : node.condition))) {
      report(node, 'condition');
    }
    if ((ts.isArrowFunction(node) || ts.isFunctionExpression(node)) && ts.isCallOrNewExpression(node.parent)) {
      const expected = checker.getContextualType(node);
      const own = checker.getTypeAtLocation(node).getCallSignatures()[0];
      if (expected && own && returnsVoid(expected) && isPromise(checker, own.getReturnType())) report(node, 'callback');
    }
    ts.forEachChild(node, visit);
  };
  for (const source of program.getSourceFiles()) {
    if (source.isDeclarationFile || !roots.some((root) => source.fileName.includes(`/${root}/`))) continue;
    visit(source);
  }
  return found;
}
