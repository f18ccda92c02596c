/**
 * Three kinds of test (see README.md):
 *   unit         plain modules with a fake wx (node)
 *   components   every page and component through miniprogram-simulate and WeChat's template
 *                compiler (wcc) (jsdom)
 *   integration  the service modules against the real backend started like `make run` (node)
 */
const common = {
  rootDir: __dirname,
  moduleDirectories: ['node_modules', 'miniprogram_npm'],
  transform: { '\\.js$': 'babel-jest' },
  transformIgnorePatterns: ['/node_modules/'],
  clearMocks: true,
};

module.exports = {
  projects: [
    Object.assign({}, common, {
      displayName: 'unit',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/unit/**/*.test.js'],
    }),
    Object.assign({}, common, {
      displayName: 'components',
      testEnvironment: 'jsdom',
      testMatch: ['<rootDir>/test/components/**/*.test.js'],
      setupFilesAfterEnv: ['<rootDir>/test/support/simulate-setup.js'],
    }),
    Object.assign({}, common, {
      displayName: 'integration',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/integration/**/*.test.js'],
    }),
  ],
};
