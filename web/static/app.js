// citytwin map page: the city's components, grids and outlines from
// citytwin's own vector tiles, styled by class and state.
(function () {
  'use strict';
  var status = document.getElementById('status');
  var message = document.getElementById('message');
  if (typeof maplibregl === 'undefined') {
    status.textContent = 'MapLibre GL JS is missing: run scripts/web.sh, then rebuild citytwin.';
    return;
  }
  var majors = [
    ['01', '公用设施 public utilities', '#1f6fd1'],
    ['02', '道路交通 roads and traffic', '#e67e00'],
    ['03', '市容环境 city appearance', '#8d6e63'],
    ['04', '园林绿化 landscaping', '#2e9d3a'],
    ['05', '房屋土地 buildings and land', '#8e44ad'],
    ['06', '其他设施 other', '#607d8b']
  ];
  var majorColor = ['match', ['slice', ['to-string', ['get', 'class']], 0, 2]];
  majors.forEach(function (m) { majorColor.push(m[0], m[2]); });
  majorColor.push('#607d8b');
  document.getElementById('legend').innerHTML = majors.map(function (m) {
    return '<div><span style="background:' + m[2] + '"></span>' + m[0] + ' ' + m[1] + '</div>';
  }).join('') + '<div><span style="background:#fff;border:2px solid #d00"></span>破损 damaged / 丢失 missing</div>';

  var map = new maplibregl.Map({
    container: 'map',
    hash: true,
    center: [104.06, 30.66],
    zoom: 12,
    style: {
      version: 8,
      sources: {
        city: { type: 'vector', url: location.origin + '/tiles/city.json', promoteId: undefined }
      },
      layers: [
        { id: 'background', type: 'background', paint: { 'background-color': '#eef0f2' } },
        { id: 'grids-fill', type: 'fill', source: 'city', 'source-layer': 'grids',
          paint: { 'fill-color': '#ffffff', 'fill-opacity': 0.35 } },
        { id: 'grids-line', type: 'line', source: 'city', 'source-layer': 'grids',
          paint: { 'line-color': '#7a8793', 'line-width': ['interpolate', ['linear'], ['zoom'], 10, 0.3, 16, 1.2] } },
        { id: 'parts-polygons', type: 'fill', source: 'city', 'source-layer': 'parts',
          filter: ['==', ['geometry-type'], 'Polygon'],
          paint: { 'fill-color': majorColor, 'fill-opacity': 0.35, 'fill-outline-color': majorColor } },
        { id: 'parts-lines', type: 'line', source: 'city', 'source-layer': 'parts',
          filter: ['==', ['geometry-type'], 'LineString'],
          paint: { 'line-color': majorColor, 'line-width': 2 } },
        { id: 'parts-agg', type: 'circle', source: 'city', 'source-layer': 'parts_agg',
          paint: {
            'circle-color': '#1f6fd1', 'circle-opacity': 0.55,
            'circle-radius': ['interpolate', ['linear'], ['sqrt', ['max', 1, ['to-number', ['get', 'count']]]], 1, 2, 100, 14]
          } },
        { id: 'parts-points', type: 'circle', source: 'city', 'source-layer': 'parts',
          filter: ['==', ['geometry-type'], 'Point'],
          paint: {
            'circle-color': majorColor,
            'circle-radius': ['interpolate', ['linear'], ['zoom'], 12, 1.5, 16, 3.5, 19, 6],
            'circle-stroke-color': ['match', ['get', 'state'], ['破损', '丢失'], '#d00000', '#ffffff'],
            'circle-stroke-width': ['match', ['get', 'state'], ['破损', '丢失'], 2, 0.5]
          } },
        { id: 'highlight', type: 'circle', source: 'city', 'source-layer': 'parts',
          filter: ['==', ['get', 'code'], ''],
          paint: { 'circle-radius': 10, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#ff00aa', 'circle-stroke-width': 3 } }
      ]
    }
  });
  map.addControl(new maplibregl.NavigationControl());
  map.addControl(new maplibregl.ScaleControl());

  function countFeatures() {
    var n = 0;
    ['parts', 'parts_agg', 'grids'].forEach(function (layer) {
      try { n += map.querySourceFeatures('city', { sourceLayer: layer }).length; } catch (e) { /* layer absent */ }
    });
    return n;
  }
  map.on('idle', function () {
    var n = countFeatures();
    status.dataset.features = String(n);
    status.textContent = n + ' features rendered at z' + map.getZoom().toFixed(1);
    window.citytwinFeatures = n;
  });
  map.on('error', function (e) {
    message.textContent = (e && e.error && e.error.message) || 'map error';
  });

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function showPart(p, lngLat) {
    var rows = Object.keys(p).filter(function (k) { return p[k] !== '' && p[k] !== null; })
      .map(function (k) { return '<tr><td>' + esc(k) + '</td><td>' + esc(p[k]) + '</td></tr>'; }).join('');
    new maplibregl.Popup().setLngLat(lngLat).setHTML('<table>' + rows + '</table>').addTo(map);
  }
  ['parts-points', 'parts-lines', 'parts-polygons'].forEach(function (id) {
    map.on('click', id, function (e) {
      var f = e.features[0];
      var code = f.properties.code;
      fetch('/parts/' + encodeURIComponent(code)).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (full) { showPart(full ? full.properties : f.properties, e.lngLat); })
        .catch(function () { showPart(f.properties, e.lngLat); });
    });
    map.on('mouseenter', id, function () { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', id, function () { map.getCanvas().style.cursor = ''; });
  });

  document.getElementById('search').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var code = document.getElementById('code').value.trim();
    message.textContent = '';
    fetch('/parts/' + encodeURIComponent(code)).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (res) {
      if (!res.ok) { message.textContent = res.body.detail || res.body.title || 'not found'; return; }
      var g = res.body.geometry;
      var pts = g.type === 'Point' ? [g.coordinates] : g.type === 'LineString' ? g.coordinates : g.coordinates[0];
      var b = pts.reduce(function (b, p) { return b.extend(p); }, new maplibregl.LngLatBounds(pts[0], pts[0]));
      map.fitBounds(b, { maxZoom: 18, padding: 80, duration: 800 });
      map.setFilter('highlight', ['==', ['get', 'code'], code]);
      map.once('moveend', function () { showPart(res.body.properties, b.getCenter()); });
    }).catch(function (e) { message.textContent = String(e); });
  });
})();
