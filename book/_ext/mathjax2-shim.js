// ipywidgets typesets widget labels with the MathJax 2 API (MathJax.Hub.Queue); the book loads
// MathJax 3, which has no Hub. This file runs (deferred) right after MathJax 3 and gives it a
// minimal Hub whose Queue re-typesets the page once MathJax is ready.
(function () {
  var mj = window.MathJax;
  if (!mj || mj.Hub) {
    return;
  }
  mj.Hub = {
    Queue: function () {
      if (mj.startup && mj.startup.promise && mj.typesetPromise) {
        mj.startup.promise.then(function () { return mj.typesetPromise(); });
      }
    },
  };
})();
