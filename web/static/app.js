// citytwin map page: the city's components, grids, sensors, alarms and open
// cases from citytwin's own vector tiles, kept live by GET /events.
(function () {
  'use strict';
  var status = document.getElementById('status');
  var message = document.getElementById('message');
  var live = document.getElementById('live');
  var N = window.citytwinNames;

  function fail(text) {
    status.dataset.state = 'error';
    status.textContent = text;
    document.getElementById('map').innerHTML = '<div class="nomap">' + text + '</div>';
  }
  if (typeof maplibregl === 'undefined') {
    fail('地图库缺失 The map library (MapLibre GL JS) is not in this build: run scripts/web.sh, then rebuild citytwin.');
    return;
  }
  function hasWebGL() {
    try {
      var c = document.createElement('canvas');
      return !!((window.WebGL2RenderingContext && c.getContext('webgl2')) ||
        (window.WebGLRenderingContext && (c.getContext('webgl') || c.getContext('experimental-webgl'))));
    } catch (e) { return false; }
  }
  var noWebGL = '此浏览器无法绘制地图：WebGL 未启用或不受支持。 This browser cannot draw the map: WebGL is disabled or ' +
    'unsupported. Turn on hardware acceleration (or use another browser); the API at /parts, /incidents and /ogc still works.';
  if (!hasWebGL()) { fail(noWebGL); return; }

  var majors = [
    ['01', '公用设施 utilities', '#1f6fd1'], ['02', '道路交通 roads', '#e67e00'], ['03', '市容环境 appearance', '#8d6e63'],
    ['04', '园林绿化 landscaping', '#2e9d3a'], ['05', '房屋土地 buildings', '#8e44ad'], ['06', '其他设施 other', '#607d8b']
  ];
  var majorColor = ['match', ['slice', ['to-string', ['get', 'class']], 0, 2]];
  majors.forEach(function (m) { majorColor.push(m[0], m[2]); });
  majorColor.push('#607d8b');
  var sensorStyles = [['alarm', '告警 alarm', '#d00000'], ['offline', '离线 offline', '#9e9e9e'], ['normal', '正常 normal', '#2e9d3a']];
  var sensorColor = ['case', ['==', ['get', 'alarm'], 'open'], '#d00000', ['==', ['get', 'alarm'], 'retired'], '#b07000',
    ['!', ['to-boolean', ['get', 'online']]], '#9e9e9e', '#2e9d3a'];
  var caseGroups = [
    [['reported', 'registered', 'returned'], '待派遣 to dispatch', '#1f6fd1'],
    [['dispatched', 'in_progress', 'sent_back'], '处置中 in hand', '#e67e00'],
    [['handled', 'verified'], '待核查 to verify', '#8e44ad'],
    [['suspended'], '挂起 suspended', '#78909c']
  ];
  var caseColor = ['match', ['get', 'state']];
  caseGroups.forEach(function (g) { caseColor.push(g[0], g[2]); });
  caseColor.push('#1f6fd1');

  function legendRow(style, text) { return '<div><span class="sym" style="' + style + '"></span>' + text + '</div>'; }
  document.getElementById('legend').innerHTML =
    '<h2>感知设备 Sensors</h2>' + sensorStyles.map(function (s) { return legendRow('background:' + s[2], s[1]); }).join('') +
    legendRow('background:transparent;border:2px solid #d00000;width:14px;height:14px', '未消除告警 open alarm') +
    '<h2>案卷 Open cases</h2>' + caseGroups.map(function (g) { return legendRow('background:' + g[2] + ';border-radius:2px', g[1]); }).join('') +
    legendRow('background:#fff;border:3px solid #d00000;border-radius:2px', '超期 overdue') +
    '<h2>部件 Components</h2>' + majors.map(function (m) { return legendRow('background:' + m[2], m[0] + ' ' + m[1]); }).join('') +
    legendRow('background:#fff;border:2px solid #d00', '破损 damaged / 丢失 missing') +
    legendRow('background:#ffffff80;border:1px solid #7a8793;border-radius:0', '单元网格 unit grid');

  var origin = location.origin;
  var map;
  try {
    map = new maplibregl.Map({
      container: 'map',
      hash: true,
      center: [104.06, 30.66],
      zoom: 12,
      // Tiles revalidate on every load (ETag, 304): live refreshes are fresh.
      transformRequest: function (url, type) { return type === 'Tile' ? { url: url, cache: 'no-cache' } : { url: url }; },
      style: {
        version: 8,
        sources: {
          city: { type: 'vector', url: origin + '/tiles/city.json' },
          sensors: { type: 'vector', url: origin + '/tiles/sensors.json' },
          alarms: { type: 'vector', url: origin + '/tiles/alarms.json' },
          incidents: { type: 'vector', url: origin + '/tiles/incidents.json' }
        },
        layers: [
          { id: 'background', type: 'background', paint: { 'background-color': '#eef0f2' } },
          { id: 'grids-fill', type: 'fill', source: 'city', 'source-layer': 'grids', paint: { 'fill-color': '#ffffff', 'fill-opacity': 0.35 } },
          { id: 'grids-line', type: 'line', source: 'city', 'source-layer': 'grids',
            paint: { 'line-color': '#7a8793', 'line-width': ['interpolate', ['linear'], ['zoom'], 10, 0.3, 16, 1.2] } },
          { id: 'divisions-line', type: 'line', source: 'city', 'source-layer': 'divisions',
            paint: { 'line-color': '#7a8793', 'line-width': 0.8, 'line-dasharray': [3, 2] } },
          { id: 'parts-polygons', type: 'fill', source: 'city', 'source-layer': 'parts', filter: ['==', ['geometry-type'], 'Polygon'],
            paint: { 'fill-color': majorColor, 'fill-opacity': 0.35, 'fill-outline-color': majorColor } },
          { id: 'parts-lines', type: 'line', source: 'city', 'source-layer': 'parts', filter: ['==', ['geometry-type'], 'LineString'],
            paint: { 'line-color': majorColor, 'line-width': 2 } },
          // A thinned tile's report of what it left out (omitted) is not
          // a cluster to draw.
          { id: 'parts-agg', type: 'circle', source: 'city', 'source-layer': 'parts_agg', filter: ['!', ['has', 'omitted']],
            paint: { 'circle-color': '#1f6fd1', 'circle-opacity': 0.45,
              'circle-radius': ['interpolate', ['linear'], ['sqrt', ['max', 1, ['to-number', ['get', 'count']]]], 1, 2, 100, 14] } },
          { id: 'parts-points', type: 'circle', source: 'city', 'source-layer': 'parts', filter: ['==', ['geometry-type'], 'Point'],
            paint: { 'circle-color': majorColor, 'circle-radius': ['interpolate', ['linear'], ['zoom'], 12, 1.5, 16, 3.5, 19, 6],
              'circle-stroke-color': ['match', ['get', 'state'], ['破损', '丢失'], '#d00000', '#ffffff'],
              'circle-stroke-width': ['match', ['get', 'state'], ['破损', '丢失'], 2, 0.5] } },
          { id: 'incidents', type: 'circle', source: 'incidents', 'source-layer': 'incidents',
            paint: { 'circle-color': caseColor, 'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 4, 16, 8],
              'circle-stroke-color': ['case', ['to-boolean', ['get', 'overdue']], '#d00000', ['to-boolean', ['get', 'supervised']], '#000000', '#ffffff'],
              'circle-stroke-width': ['case', ['to-boolean', ['get', 'overdue']], 3, ['to-boolean', ['get', 'supervised']], 2, 1] } },
          { id: 'alarms', type: 'circle', source: 'alarms', 'source-layer': 'alarms',
            paint: { 'circle-color': 'rgba(208,0,0,0.12)', 'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 8, 16, 14],
              'circle-stroke-color': '#d00000', 'circle-stroke-width': 2 } },
          { id: 'sensors', type: 'circle', source: 'sensors', 'source-layer': 'sensors',
            paint: { 'circle-color': sensorColor, 'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 3, 16, 6],
              'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1.5 } },
          { id: 'highlight', type: 'circle', source: 'city', 'source-layer': 'parts', filter: ['==', ['get', 'code'], ''],
            paint: { 'circle-radius': 10, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#ff00aa', 'circle-stroke-width': 3 } }
        ]
      }
    });
  } catch (e) {
    fail(/webgl/i.test(String(e && e.message)) ? noWebGL : '地图无法启动 The map could not start: ' + e);
    return;
  }
  map.addControl(new maplibregl.NavigationControl());
  map.addControl(new maplibregl.ScaleControl());
  window.citytwinMap = map;

  function features(source, layer) {
    try { return map.querySourceFeatures(source, { sourceLayer: layer }); } catch (e) { return []; }
  }
  // The status counts the features drawn; it is updated when the map is
  // idle and when the city's tiles have loaded (tiles with a short max-age
  // are reloaded as they expire, so a busy map may seldom be idle).
  map.on('idle', function () { updateStatus(); labelGrids(); });
  map.on('sourcedata', function (e) { if (e.sourceId === 'city' && e.isSourceLoaded) { updateStatus(); } });
  function updateStatus() {
    var n = 0;
    ['parts', 'parts_agg', 'grids'].forEach(function (l) { n += features('city', l).length; });
    status.dataset.features = String(n);
    status.dataset.state = 'ready';
    status.textContent = n + ' features at z' + map.getZoom().toFixed(1) + ' · ' + features('sensors', 'sensors').length +
      ' sensors · ' + features('alarms', 'alarms').length + ' open alarms · ' + features('incidents', 'incidents').length + ' open cases';
    window.citytwinFeatures = n;
  }
  map.on('error', function (e) {
    var msg = (e && e.error && e.error.message) || 'map error';
    message.textContent = msg;
  });

  // Grid labels at high zoom: DOM markers (no glyph server is needed).
  var labels = [];
  function labelGrids() {
    labels.forEach(function (m) { m.remove(); });
    labels = [];
    if (map.getZoom() < 15) { return; }
    var seen = {};
    map.queryRenderedFeatures({ layers: ['grids-fill'] }).forEach(function (f) {
      var code = f.properties.code;
      if (seen[code] || labels.length >= 60) { return; }
      seen[code] = true;
      var ring = f.geometry.type === 'Polygon' ? f.geometry.coordinates[0] : f.geometry.coordinates[0][0];
      var b = ring.reduce(function (b, p) { return b.extend(p); }, new maplibregl.LngLatBounds(ring[0], ring[0]));
      var c = b.getCenter();
      var vb = map.getBounds();
      c = new maplibregl.LngLat(Math.min(Math.max(c.lng, vb.getWest()), vb.getEast()), Math.min(Math.max(c.lat, vb.getSouth()), vb.getNorth()));
      var el = document.createElement('div');
      el.className = 'grid-label';
      el.textContent = f.properties.name || code;
      labels.push(new maplibregl.Marker({ element: el }).setLngLat(c).addTo(map));
    });
  }

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function table(title, rows) {
    return '<h3>' + esc(title) + '</h3><table>' + rows.filter(function (r) { return r[1] !== '' && r[1] !== undefined && r[1] !== null; })
      .map(function (r) { return '<tr><td>' + esc(r[0]) + '</td><td>' + esc(r[1]) + '</td></tr>'; }).join('') + '</table>';
  }
  function popup(lngLat, html) {
    document.querySelectorAll('.maplibregl-popup').forEach(function (p) { p.remove(); });
    return new maplibregl.Popup({ maxWidth: '340px' }).setLngLat(lngLat).setHTML(html).addTo(map);
  }
  function showPart(p, lngLat) {
    return Promise.all([N.ready, N.grid(p.grid_code)]).then(function (r) {
      popup(lngLat, table(N.className(p.class).replace(/ \(\d+\)$/, '') || p.name || '部件', [
        ['部件编码 code', p.code], ['类别 class', N.className(p.class)], ['名称 name', p.label || p.name],
        ['状态 state', p.state], ['权属单位 owner', N.dept(p.dept_owner)], ['养护单位 maintainer', N.dept(p.dept_maintainer)],
        ['监管部门 supervisor', N.dept(p.dept_supervisor)], ['所在网格 grid', r[1]], ['材质 material', p.material],
        ['普查日期 surveyed', p.surveyed]]));
    });
  }
  function showCase(p, lngLat) {
    return Promise.all([N.ready, N.grid(p.grid)]).then(function (r) {
      popup(lngLat, table('案卷 ' + p.id, [
        ['状态 state', N.caseState(p.state)], ['类别 class', p.class_name ? p.class_name + ' (' + p.class + ')' : N.className(p.class)],
        ['责任部门 department', N.dept(p.dept)], ['来源 source', N.source(p.source)], ['所在网格 grid', r[1]],
        ['部件 component', p.code], ['超期 overdue', p.overdue ? '是 yes' : '否 no'], ['督办 supervised', p.supervised ? '是 yes' : ''],
        ['描述 description', p.description]]));
    });
  }
  function showSensor(p, lngLat) {
    return N.ready.then(function () {
      var state = p.alarm === 'open' ? '告警 alarm' : p.alarm === 'retired' ? '部件已作废 component retired' : p.online ? '正常 normal' : '离线 offline';
      popup(lngLat, table('感知设备 ' + (p.name || p.kind), [
        ['设备 sensor', p.id], ['类型 kind', p.name ? p.name + ' (' + p.kind + ')' : p.kind], ['状态 state', state],
        ['未消除告警 open alarms', p.alarms], ['所在部件 component', p.code]]));
    });
  }
  function showAlarm(p, lngLat) {
    popup(lngLat, table('告警 alarm', [
      ['设备 sensor', p.sensor], ['规则 rule', N.ruleKind(p.rule_kind)], ['次数 readings', p.count],
      ['发生 raised', new Date(p.raised).toLocaleString()], ['原因 reason', p.reason], ['部件 component', p.code]]));
  }
  var clickOrder = ['sensors', 'alarms', 'incidents', 'parts-points', 'parts-lines', 'parts-polygons'];
  map.on('click', function (e) {
    var fs = map.queryRenderedFeatures(e.point, { layers: clickOrder });
    if (!fs.length) { return; }
    var f = fs[0];
    var p = f.properties;
    switch (f.layer.id) {
      case 'sensors': showSensor(p, e.lngLat); break;
      case 'alarms': showAlarm(p, e.lngLat); break;
      case 'incidents':
        fetch('/incidents/' + encodeURIComponent(p.id)).then(function (r) { return r.ok ? r.json() : null; })
          .then(function (full) { showCase(full ? full.properties : p, e.lngLat); });
        break;
      default:
        fetch('/parts/' + encodeURIComponent(p.code)).then(function (r) { return r.ok ? r.json() : null; })
          .then(function (full) { showPart(full ? full.properties : p, e.lngLat); });
    }
  });
  clickOrder.forEach(function (id) {
    map.on('mouseenter', id, function () { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', id, function () { map.getCanvas().style.cursor = ''; });
  });

  // Search: a 16-digit component code, a 14/15-digit grid code or a case id.
  function boundsOf(g) {
    var pts = g.type === 'Point' ? [g.coordinates] : g.type === 'LineString' ? g.coordinates :
      g.type === 'Polygon' ? g.coordinates[0] : g.type === 'MultiPolygon' ? g.coordinates[0][0] : [g.coordinates];
    return pts.reduce(function (b, p) { return b.extend(p); }, new maplibregl.LngLatBounds(pts[0], pts[0]));
  }
  function flyTo(g, then) {
    var b = boundsOf(g);
    map.fitBounds(b, { maxZoom: 18, padding: 80, duration: 800 });
    map.once('moveend', function () { then(b.getCenter()); });
  }
  document.getElementById('search').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var q = document.getElementById('code').value.trim();
    message.textContent = '';
    var url, show;
    if (/^\d{16}$/.test(q)) {
      url = '/parts/' + q;
      show = function (body, at) { map.setFilter('highlight', ['==', ['get', 'code'], q]); return showPart(body.properties, at); };
    } else if (/^\d{14,15}$/.test(q)) {
      url = '/grids/' + q;
      show = function (body, at) {
        var p = body.properties;
        popup(at, table('单元网格 ' + (p.name || q), [['网格编码 grid', p.code], ['名称 name', p.name], ['责任单位 department', N.dept(p.dept)]]));
      };
    } else if (/^C\d{8}-[A-Za-z0-9]+$/.test(q)) {
      url = '/incidents/' + q;
      show = function (body, at) { return showCase(body.properties, at); };
    } else {
      message.textContent = '请输入16位部件编码、14或15位网格编码或案卷号 Enter a 16-digit component code, a 14/15-digit grid code or a case id.';
      return;
    }
    fetch(url).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (res) {
      if (!res.ok) { message.textContent = res.body.detail || res.body.title || 'not found'; return; }
      if (!res.body.geometry) { message.textContent = q + ' has no place on the map'; return; }
      flyTo(res.body.geometry, function (at) { show(res.body, at); });
    }).catch(function (e) { message.textContent = String(e); });
  });

  // Live updates: refresh the sources an event touches, at most every 500 ms.
  var pending = {}, timer = null, events = 0;
  function refresh(ids) {
    ids.forEach(function (id) { pending[id] = true; });
    if (timer) { return; }
    timer = setTimeout(function () {
      timer = null;
      Object.keys(pending).forEach(function (id) {
        if (!map.getSource(id)) { return; }
        if (map.refreshTiles) { map.refreshTiles(id); } else { var s = map.getSource(id); s.setTiles(s.tiles); }
      });
      pending = {};
    }, 500);
  }
  if (window.EventSource) {
    var es = new EventSource('/events');
    var on = function (type, ids) {
      es.addEventListener(type, function (ev) {
        events++;
        live.dataset.events = String(events);
        live.textContent = '实时 live: ' + events + ' events, last ' + type;
        var d = {};
        try { d = JSON.parse(ev.data); } catch (e) { /* keep {} */ }
        refresh(typeof ids === 'function' ? ids(d) : ids);
      });
    };
    on('alarm.raised', ['sensors', 'alarms']);
    on('alarm.cleared', ['sensors', 'alarms']);
    on('alarm.updated', ['sensors', 'alarms']);
    on('sensor.changed', ['sensors', 'alarms']);
    on('incident.created', ['incidents']);
    on('incident.updated', ['incidents']);
    on('tiles.changed', function (d) {
      var layers = d.layers || [];
      return layers.some(function (l) { return l === 'parts' || l === 'grids' || l === 'city'; }) ? ['city'] : [];
    });
    on('reset', ['city', 'sensors', 'alarms', 'incidents']);
    es.onerror = function () { live.textContent = '实时更新已断开，重连中 live feed lost, reconnecting…'; };
  }
})();
