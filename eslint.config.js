// Lint: the style the tree is written in (2 spaces, no semicolons, single quotes, a space
// before function parentheses), TypeScript's unsafe escapes (any, non-type imports of types),
// and named exports. Import boundaries and cycles are checked by dependency-cruiser
// (.dependency-cruiser.cjs); `npm run lint` runs both.
import tseslint from 'typescript-eslint'
import stylistic from '@stylistic/eslint-plugin'

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'src/playground/static/', 'test/fixtures/'] },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'vitest.config.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin, '@stylistic': stylistic },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@stylistic/indent': ['error', 2, { SwitchCase: 1, ignoredNodes: ['TemplateLiteral *', 'TSUnionType', 'TSIntersectionType', 'ConditionalExpression'] }],
      '@stylistic/semi': ['error', 'never'],
      '@stylistic/quotes': ['error', 'single', { avoidEscape: true, allowTemplateLiterals: 'always' }],
      '@stylistic/space-before-function-paren': ['error', 'always'],
      '@stylistic/no-trailing-spaces': 'error',
      '@stylistic/eol-last': 'error',
      '@stylistic/no-tabs': 'error',
      '@stylistic/keyword-spacing': 'error',
      '@stylistic/space-infix-ops': 'error',
      '@stylistic/comma-spacing': 'error',
      '@stylistic/brace-style': ['error', '1tbs', { allowSingleLine: true }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-var': 'error',
      'prefer-const': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-restricted-syntax': ['error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' }
      ]
    }
  },
  {
    // Casts only at real trust boundaries (parsed JSON or YAML, native APIs typed too
    // loosely), each kept one marked `eslint-disable-next-line ... -- <why it is safe>`.
    // Everywhere in src/; tests may cast what they parse.
    files: ['src/**/*.ts'],
    rules: {
      '@typescript-eslint/consistent-type-assertions': ['error', { assertionStyle: 'never' }],
      // The same claim without the `as`: not a way around the rule above.
      '@typescript-eslint/no-non-null-assertion': 'error'
    }
  },
  {
    // Config files of tools export their config as the tool expects; a declaration file
    // describes a module as it is (autocannon exports a default).
    files: ['vitest.config.ts', '**/*.d.ts'],
    rules: { 'no-restricted-syntax': 'off' }
  }
)
