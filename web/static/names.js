// citytwin map page: the names people read instead of codes (class names
// from the catalogue, department names, case state names, grid names),
// loaded from citytwin's own API and cached.
(function () {
  'use strict';
  var caseStates = {
    reported: '上报 reported', registered: '立案 registered', rejected: '不予立案 rejected',
    dispatched: '已派遣 dispatched', in_progress: '处置中 in progress', handled: '处置完成 handled',
    verified: '核查通过 verified', closed: '结案 closed', returned: '回退 returned',
    sent_back: '退回重办 sent back', suspended: '挂起 suspended'
  };
  var sources = {
    inspector: '监督员 inspector', hotline: '热线 hotline', app: '市民 app', sensor: '感知设备 sensor',
    open311: 'Open311', video: '视频 video'
  };
  var ruleKinds = { threshold: '超限 threshold', rate: '突变 rate', silence: '离线 silence' };
  var classes = {}; // component class ("0101") -> name
  var depts = {};   // department code -> name
  var grids = {};   // grid code -> promise of name
  function getJSON(url) {
    return fetch(url).then(function (r) { return r.ok ? r.json() : null; }).catch(function () { return null; });
  }
  var ready = Promise.all([
    getJSON('/open311/v2/services.json').then(function (list) {
      (list || []).forEach(function (s) {
        var m = /^component-(.+)$/.exec(String(s.service_code)); // event classes have their own names on cases
        if (m) { classes[m[1]] = s.service_name; }
      });
    }),
    getJSON('/departments').then(function (d) {
      ((d && d.departments) || []).forEach(function (x) { depts[x.code] = x.name; });
    })
  ]);
  function withCode(name, code) { return name && name !== code ? name + ' (' + code + ')' : code; }
  window.citytwinNames = {
    ready: ready,
    className: function (c) { return withCode(classes[c], c); },
    dept: function (c) { return c ? withCode(depts[c], c) : ''; },
    caseState: function (s) { return caseStates[s] || s; },
    source: function (s) { return sources[s] || s; },
    ruleKind: function (r) { return ruleKinds[r] || r; },
    grid: function (code) {
      if (!code) { return Promise.resolve(''); }
      if (!grids[code]) {
        grids[code] = getJSON('/grids/' + encodeURIComponent(code)).then(function (g) {
          return withCode(g && g.properties && g.properties.name, code);
        });
      }
      return grids[code];
    },
    caseStates: caseStates
  };
})();
