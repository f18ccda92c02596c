// Tests only: TDesign ships ES modules (WeChat DevTools converts them when it compiles); jest
// needs CommonJS. Our own code is CommonJS already.
module.exports = {
  plugins: ['@babel/plugin-transform-modules-commonjs'],
};
